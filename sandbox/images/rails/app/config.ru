require_relative "config/environment"
# SOLID_QUEUE_IN_PUMA: the job poller runs as a thread of the web server (see lib/job_poller.rb).
JobPoller.start if ENV["SOLID_QUEUE_IN_PUMA"] == "true"
run Rails.application
Rails.application.load_server
