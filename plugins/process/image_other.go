//go:build !linux

package process

import "os"

// newImage returns nil: only Linux has sealed in-memory files, and the
// binary is executed by its path (see Plugin.verify).
func newImage(string) (*os.File, error) { return nil, nil }

// sealImage is never called outside Linux.
func sealImage(*os.File) error { return nil }
