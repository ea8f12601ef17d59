// Command rgraph measures, stores and analyses recovery dependency graphs.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], NewEnv()))
}
