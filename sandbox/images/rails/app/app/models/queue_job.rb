class QueueJob < QueueRecord
end
