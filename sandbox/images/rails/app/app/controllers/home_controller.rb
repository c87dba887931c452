class HomeController < ApplicationController
  def show
    info = {
      app: "wombatworkouts",
      release: Wombatworkouts::RELEASE,
      rails: Rails.version,
      workouts: Workout.count,
      workout_columns: Workout.column_names,
      cache_entries: CacheEntry.count,
      queue_jobs: QueueJob.count,
      cable_messages: CableMessage.count
    }
    respond_to do |format|
      format.html { render plain: text(info), content_type: "text/plain" }
      format.text { render plain: text(info), content_type: "text/plain" }
      format.json { render json: info }
    end
  end

  private

  def text(info)
    info.map { |k, v| "#{k}: #{Array(v).join(',')}" }.join("\n") + "\n"
  end
end
