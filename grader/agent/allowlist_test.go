package agent

import "testing"

func TestAllowed(t *testing.T) {
	tests := []struct {
		method, target string
		want           bool
	}{
		// The reads the grader makes, with and without the version prefix.
		{"GET", "/_ping", true},
		{"HEAD", "/_ping", true},
		{"GET", "/v1.41/version", true},
		{"GET", "/info", true},
		{"GET", "/v1.47/system/df", true},
		{"GET", "/v1.41/containers/json?all=1&filters=%7B%7D", true},
		{"GET", "/containers/3f2a9c/json", true},
		{"GET", "/v1.41/containers/my_app.1-x/json?size=1", true},
		{"GET", "/v1.41/containers/abc/logs?stdout=1&stderr=1&tail=50", true},
		{"GET", "/containers/abc/logs?follow=0", true},
		{"GET", "/containers/abc/logs?follow=false&tail=all", true},
		{"GET", "/images/json", true},
		{"GET", "/v1.41/images/django-app:latest/json", true},
		{"GET", "/images/registry.example.com:5000/team/app:1.0/json", true},
		{"GET", "/images/sha256:0123abcd/history", true},
		{"GET", "/images/app@sha256:0123abcd/json", true},
		{"GET", "/v1.41/networks", true},
		{"GET", "/networks/labnet?verbose=false", true},

		// Methods that change state.
		{"POST", "/v1.41/containers/create", false},
		{"POST", "/containers/abc/start", false},
		{"POST", "/containers/abc/exec", false},
		{"POST", "/build", false},
		{"POST", "/images/create?fromImage=alpine", false},
		{"DELETE", "/containers/abc", false},
		{"DELETE", "/v1.41/images/abc", false},
		{"PUT", "/containers/abc/archive", false},
		{"POST", "/containers/abc/json", false},
		{"OPTIONS", "/_ping", false},
		{"CONNECT", "/_ping", false},
		{"get", "/_ping", false},

		// Reads that leak data or stream forever.
		{"GET", "/containers/abc/attach", false},
		{"GET", "/containers/abc/attach/ws", false},
		{"GET", "/exec/abc/json", false},
		{"GET", "/containers/abc/archive?path=/etc/shadow", false},
		{"HEAD", "/containers/abc/archive", false},
		{"GET", "/containers/abc/export", false},
		{"GET", "/images/abc/get", false},
		{"GET", "/images/get?names=abc", false},
		{"GET", "/events", false},
		{"GET", "/v1.41/events?since=0", false},
		{"GET", "/containers/abc/stats", false},
		{"GET", "/containers/abc/top", false},
		{"GET", "/containers/abc/changes", false},
		{"GET", "/secrets", false},
		{"GET", "/swarm", false},
		{"GET", "/plugins", false},
		{"GET", "/containers/abc/logs?follow=1", false},
		{"GET", "/containers/abc/logs?follow=true", false},
		{"GET", "/containers/abc/logs?follow=TRUE", false},
		{"GET", "/containers/abc/logs?follow=yes", false},
		{"GET", "/containers/abc/logs?follow=0&follow=1", false},
		{"GET", "/v1.41/containers/abc/logs?stdout=1&follow=1", false},

		// Traversal and encoding tricks.
		{"GET", "/v1.41/../../etc", false},
		{"GET", "/v1.41/containers/../images/json", false},
		{"GET", "/containers/./json", false},
		{"GET", "//containers/json", false},
		{"GET", "/containers/json/", false},
		{"GET", "/networks/", false},
		{"GET", "/%63ontainers/json", false},
		{"GET", "/containers/abc%2Fattach/json", false},
		{"GET", "/v1.41/%2e%2e/%2e%2e/etc", false},
		{"GET", "/containers/abc%2fjson", false},
		{"GET", "/images/a%00/json", false},
		{"GET", "/images/..%2f..%2fetc/json", false},
		{"GET", "/containers/a\\b/json", false},
		{"GET", "/containers/a b/json", false},
		{"GET", "/containers/abc/logs?follow=0;follow=1", false},
		{"GET", "/containers/abc/logs?follow=%zz", false},
		{"GET", "http://docker/containers/json", false},
		{"GET", "*", false},
		{"GET", "", false},
		{"GET", "/v1.41", false},
		{"GET", "/v1.41/", false},
		{"GET", "/vX.41/containers/json", false},
		{"GET", "/containers/.hidden/json", false},
		{"GET", "/images/../json", false},
		{"GET", "/images/a/../../events/json", false},
	}
	for _, tt := range tests {
		if got := Allowed(tt.method, tt.target); got != tt.want {
			_, reason := checkRequest(tt.method, tt.target)
			t.Errorf("Allowed(%q, %q) = %v, want %v (reason %q)", tt.method, tt.target, got, tt.want, reason)
		}
	}
}
