# GET /jobs: the queue as the web process sees it, and whether its job poller thread runs.
class JobsController < ApplicationController
  def show
    render json: {
      in_puma: ENV["SOLID_QUEUE_IN_PUMA"] == "true",
      pid: Process.pid,
      poller: JobPoller.state,
      pending: QueueJob.where(finished_at: nil).count,
      finished: QueueJob.where.not(finished_at: nil).count
    }
  end
end
