package microvm

import "github.com/rgraph/rgraph/sandbox"

func init() { sandbox.Register(New(Config{})) }
