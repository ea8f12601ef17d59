package microvm_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm"
)

func TestSmoke(t *testing.T) {
	exe, _ := os.Executable()
	d := microvm.New(microvm.Config{Agent: exe})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	sb, err := d.Start(ctx, sandbox.Spec{Env: []string{"PATH=/usr/bin:/bin"}, Fault: "reject"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %v", time.Since(start))
	defer sb.Close()
	res, err := sb.Exec(ctx, sandbox.Command{Name: "hi", Shell: "echo hi; id; cat /proc/self/status | grep Cap; ls /; echo > /dev/tcp/1.1.1.1/80; getent hosts localhost"})
	t.Logf("%+v %v (%v)", res, err, time.Since(start))
	rec, err := sb.Recording()
	t.Logf("%+v %v", rec, err)
}
