class CreateCacheEntries < ActiveRecord::Migration[7.2]
  def change
    create_table :cache_entries do |t|
      t.string :key, null: false, index: { unique: true }
      t.text :value
      t.datetime :updated_at, null: false
    end
  end
end
