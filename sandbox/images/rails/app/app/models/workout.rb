class Workout < ApplicationRecord
end
