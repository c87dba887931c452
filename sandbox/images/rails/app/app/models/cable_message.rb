class CableMessage < CableRecord
end
