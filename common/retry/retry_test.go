package retry

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestUnavailable(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "down")
	tests := []struct {
		name  string
		errs  []error
		wants []bool
	}{
		{"unavailable, twice, then no more", []error{unavailable, unavailable, unavailable}, []bool{true, true, false}},
		{"other codes are not retried", []error{status.Error(codes.InvalidArgument, "bad")}, []bool{false}},
		{"nor plain errors", []error{errors.New("boom")}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Unavailable(2, 10*time.Millisecond)
			for i, err := range tt.errs {
				pause, ok := r.Retry(err)
				if ok != tt.wants[i] {
					t.Fatalf("Retry #%d = %v, want %v", i+1, ok, tt.wants[i])
				}
				if ok && (pause <= 0 || pause > time.Second) {
					t.Errorf("Retry #%d pauses %v, want (0, 1s]", i+1, pause)
				}
			}
		})
	}
}
