class CreateQueueJobs < ActiveRecord::Migration[7.2]
  def change
    create_table :queue_jobs do |t|
      t.string :class_name, null: false
      t.text :arguments
      t.datetime :finished_at
      t.timestamps
    end
  end
end
