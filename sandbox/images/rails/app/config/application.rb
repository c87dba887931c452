require_relative "boot"

require "rails"
require "active_model/railtie"
require "active_record/railtie"
require "action_controller/railtie"
require "action_view/railtie"


module Wombatworkouts
  RELEASE = ENV.fetch("RELEASE", "dev")

  # Adds X-Release (ENV RELEASE) to every response, /up included.
  class ReleaseHeader
    def initialize(app)
      @app = app
    end

    def call(env)
      status, headers, body = @app.call(env)
      headers["x-release"] = RELEASE
      [ status, headers, body ]
    end
  end

  class Application < Rails::Application
    config.load_defaults 7.2
    config.autoload_lib(ignore: %w[tasks])

    # Every response (including /up) carries the release.
    config.middleware.insert_before 0, Wombatworkouts::ReleaseHeader

    # Secret provided at deploy time; a fixed dev value keeps local checks working.
    config.secret_key_base = ENV["SECRET_KEY_BASE"].presence ||
      "dev-insecure-secret-key-base-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    config.require_master_key = false

    config.time_zone = "UTC"
  end
end
