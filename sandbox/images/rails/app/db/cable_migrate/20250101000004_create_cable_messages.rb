class CreateCableMessages < ActiveRecord::Migration[7.2]
  def change
    create_table :cable_messages do |t|
      t.string :channel, null: false
      t.text :payload
      t.datetime :created_at, null: false
    end
  end
end
