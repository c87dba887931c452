class CreateWorkouts < ActiveRecord::Migration[7.2]
  def change
    create_table :workouts do |t|
      t.string :name, null: false
      t.integer :reps
      t.timestamps
    end
  end
end
