package main

// The sandbox drivers rgraph ships: importing a driver's package
// registers it with the sandbox package (sandbox.Register).
import _ "github.com/rgraph/rgraph/sandbox/netns"
