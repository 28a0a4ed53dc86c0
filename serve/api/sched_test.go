package api

import (
	"runtime"
	"time"
)

// runtimeGosched yields briefly while a test waits for other goroutines.
func runtimeGosched() {
	runtime.Gosched()
	time.Sleep(time.Millisecond)
}
