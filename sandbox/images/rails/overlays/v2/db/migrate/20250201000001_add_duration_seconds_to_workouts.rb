# v2 only: "migrations run before cutover" is testable through this column.
class AddDurationSecondsToWorkouts < ActiveRecord::Migration[7.2]
  def change
    add_column :workouts, :duration_seconds, :integer
  end
end
