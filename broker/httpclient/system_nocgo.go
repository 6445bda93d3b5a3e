//go:build !cgo

package httpclient

// cgoBuild says this build has cgo, which reading macOS's proxy settings needs (see system.go).
const cgoBuild = false
