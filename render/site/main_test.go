package site

import (
	"os"
	"testing"

	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/render/graphviz"
)

// TestMain lays the site's drawings out in this process.
func TestMain(m *testing.M) {
	render.UseLayout(graphviz.Layout)
	os.Exit(m.Run())
}
