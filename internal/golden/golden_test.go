package golden

import "testing"

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name, want, got, diff string
	}{
		{"same", "a\nb\n", "a\nb\n", ""},
		{"one line", "a\nb\n", "a\nc\n", "line 2:\n  want: b\n  got:  c\n"},
		{"longer", "a\n", "a\nb\n", "line 2:\n  want: \n  got:  b\n"},
		{"colour shown escaped", "\x1b[1mhard\x1b[0m\n", "\x1b[2mhard\x1b[0m\n", "line 1:\n  want: \\x1b[1mhard\\x1b[0m\n  got:  \\x1b[2mhard\\x1b[0m\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := lineDiff(tt.want, tt.got); d != tt.diff {
				t.Errorf("lineDiff = %q, want %q", d, tt.diff)
			}
		})
	}
}
