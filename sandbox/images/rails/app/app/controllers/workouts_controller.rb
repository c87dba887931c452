class WorkoutsController < ApplicationController
  def index
    render json: Workout.order(:id).last(1000)
  end

  def show
    render json: Workout.find(params[:id])
  end

  # POST /workouts  (form or JSON: name, reps, and duration_seconds once v2's migration ran)
  def create
    permitted = Workout.column_names - %w[id created_at updated_at]
    attrs = params.fetch(:workout, params).permit(*permitted)
    attrs[:name] = "workout" if attrs[:name].blank?
    workout = Workout.create!(attrs)
    # Touch the other databases too, like a real app's cache write and job enqueue.
    CacheEntry.upsert({ key: "last_workout", value: workout.id.to_s, updated_at: Time.current }, unique_by: :key)
    QueueJob.create!(class_name: "WorkoutCreatedJob", arguments: { id: workout.id }.to_json)
    CableMessage.create!(channel: "workouts", payload: { id: workout.id }.to_json)
    render json: { id: workout.id, release: Wombatworkouts::RELEASE }, status: :created
  end
end
