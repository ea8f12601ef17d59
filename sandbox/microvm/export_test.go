package microvm

// Unrecorded makes d boot guests without their recorder, so that a test
// sees what the host's filter stops on its own.
func Unrecorded(d *Driver) { d.unrecorded = true }
