# No Bundler: every gem comes from Debian packages (ruby-rails, ruby-sqlite3, puma),
# found through rubygems-integration. Nothing is fetched from rubygems.org.
ENV["RAILS_ENV"] ||= "production"
ENV["BUNDLE_GEMFILE"] = nil if ENV["BUNDLE_GEMFILE"].to_s.empty?
