module berth.local/front

go 1.26.0
