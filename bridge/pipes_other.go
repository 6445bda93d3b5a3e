//go:build !linux

package bridge

// growPipes does nothing: only Linux lets a process size its pipes (see pipes_linux.go).
func growPipes(...any) {}
