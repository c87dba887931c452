require "active_support/core_ext/integer/time"

Rails.application.configure do
  config.enable_reloading = false
  config.eager_load = true
  config.consider_all_requests_local = false
  config.public_file_server.enabled = true
  # The seeds set RAILS_ASSUME_SSL behind a TLS-terminating proxy (Rails 8 apps read it the same way).
  config.assume_ssl = ENV["ASSUME_SSL"] == "1" || ENV["RAILS_ASSUME_SSL"] == "true"
  config.force_ssl = false

  # Log to STDOUT, like Rails 8's production default.
  config.log_tags = [ :request_id ]
  config.logger = ActiveSupport::TaggedLogging.new(ActiveSupport::Logger.new($stdout))
  config.log_level = ENV.fetch("RAILS_LOG_LEVEL", "info")
  # Don't log health checks at info (Rails 8 default silences /up).
  config.silence_healthcheck_path = "/up" if config.respond_to?(:silence_healthcheck_path=)

  config.i18n.fallbacks = true
  config.active_support.report_deprecations = false
  config.active_record.dump_schema_after_migration = false
  config.active_record.attributes_for_inspect = [ :id ]
end
