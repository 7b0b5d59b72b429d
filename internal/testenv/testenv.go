// Package testenv decides what a test does when a real service it needs
// (PostgreSQL, a Docker engine, moto, Chromium) is missing: on a laptop the
// test skips with the reason; under CI it fails, so CI can never pass by
// skipping.
package testenv

import (
	"os"
	"testing"
)

// InCI reports whether the tests run under continuous integration.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && v != "false"
}

// Require stops the test when err says the service is unavailable: it
// skips locally and fails under CI. A nil err does nothing.
func Require(t testing.TB, service string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if InCI() {
		t.Fatalf("%s is required under CI but unavailable: %v", service, err)
	}
	t.Skipf("skipping: %s unavailable (%v); CI starts it with .ci/run", service, err)
}
