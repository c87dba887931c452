class ApplicationController < ActionController::Base
  # JSON API for the sandbox: no CSRF tokens.
  skip_forgery_protection
end
