package netns

import "testing"

func TestReleaseAtLeast(t *testing.T) {
	tests := []struct {
		release string
		want    bool
	}{
		{"6.7.0", true},
		{"6.18.44-fc-v1045", true},
		{"7.0-rc1", true},
		{"6.6.52-amd64", false},
		{"5.19.0", false},
		{"6", false},
		{"unknown", false},
	}
	for _, tt := range tests {
		if got := releaseAtLeast(tt.release, 6, 7); got != tt.want {
			t.Errorf("releaseAtLeast(%q, 6, 7) = %v, want %v", tt.release, got, tt.want)
		}
	}
}
