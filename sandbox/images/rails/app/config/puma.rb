# Puma listens directly on $PORT (80 by default, where Thruster would sit in a Rails 8 image).
threads_count = ENV.fetch("RAILS_MAX_THREADS", 3)
threads threads_count, threads_count
port ENV.fetch("PORT", 80)
pidfile ENV["PIDFILE"] if ENV["PIDFILE"]
