# Solid Queue–style jobs in the web process (SOLID_QUEUE_IN_PUMA): one thread in the server polls
# the queue database and performs pending jobs (here: marks them finished), as Solid Queue's Puma
# plugin does. Started by config.ru, so only `rails server` runs it (not the release command).
module JobPoller
  INTERVAL = Float(ENV.fetch("JOB_POLL_INTERVAL", "1"))
  @lock = Mutex.new
  @stats = { polls: 0, performed: 0, last_poll_at: nil, last_error: nil }

  class << self
    def start
      return if @thread&.alive?
      @thread = Thread.new do
        Thread.current.name = "job-poller"
        loop do
          begin
            Rails.application.executor.wrap { poll_once }
          rescue StandardError => e
            @lock.synchronize { @stats[:last_error] = "#{e.class}: #{e.message}" }
          end
          sleep INTERVAL
        end
      end
    end

    def poll_once
      QueueJob.where(finished_at: nil).order(:id).limit(50).each do |job|
        job.update!(finished_at: Time.current)
        @lock.synchronize { @stats[:performed] += 1 }
      end
      @lock.synchronize do
        @stats[:polls] += 1
        @stats[:last_poll_at] = Time.now.utc.iso8601(3)
      end
    end

    def state
      @lock.synchronize { @stats.merge(running: !!@thread&.alive?) }
    end
  end
end
