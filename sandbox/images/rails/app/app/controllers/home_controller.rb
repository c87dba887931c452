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
      cable_messages: CableMessage.count,
      ssl: request.ssl?,
      remote_ip: request.remote_ip
    }
    respond_to do |format|
      format.html { render plain: text(info), content_type: "text/plain" }
      format.text { render plain: text(info), content_type: "text/plain" }
      format.json { render json: info }
    end
  end

  # GET /slow?ms=N: sleeps N ms (cap 30000) so drain on cutover is observable.
  def slow
    ms = params[:ms].to_i.clamp(0, 30_000)
    sleep(ms / 1000.0)
    render plain: "slept #{ms}ms release=#{Wombatworkouts::RELEASE}\n", content_type: "text/plain"
  end

  private

  def text(info)
    info.map { |k, v| "#{k}: #{Array(v).join(',')}" }.join("\n") + "\n"
  end
end
