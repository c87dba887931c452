Rails.application.routes.draw do
  get "up" => "rails/health#show", as: :rails_health_check
  root "home#show"
  get "slow" => "home#slow"
  get "jobs" => "jobs#show"
  get "db" => "db#show"
  resources :workouts, only: [ :index, :create, :show ]
end
