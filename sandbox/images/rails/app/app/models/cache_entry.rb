class CacheEntry < CacheRecord
end
