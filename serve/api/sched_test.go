package api

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// runtimeGosched yields briefly while a test waits for other goroutines.
func runtimeGosched() {
	runtime.Gosched()
	time.Sleep(time.Millisecond)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t testing.TB, method, path string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, path, nil)
}
