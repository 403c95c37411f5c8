package xrayapi

import "time"

var sinkTime = time.Unix(1795559925, 0)
