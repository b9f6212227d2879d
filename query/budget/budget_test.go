package budget

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestReserveRelease(t *testing.T) {
	b := New(100, time.Minute)
	if err := b.Reserve(context.Background(), 60); err != nil {
		t.Fatal(err)
	}
	if b.TryReserve(41) {
		t.Fatal("TryReserve(41) with 40 free succeeded")
	}
	if !b.TryReserve(40) {
		t.Fatal("TryReserve(40) with 40 free failed")
	}
	if err := b.Reserve(context.Background(), 101); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Reserve(101) of 100 = %v, want ErrTooLarge", err)
	}
	// A waiter is granted when enough is released, in FIFO order.
	got := make(chan int, 2)
	go func() {
		if b.Reserve(context.Background(), 50) == nil {
			got <- 1
		}
	}()
	waitFor(t, func() bool { return b.Stats().Waiting == 1 })
	go func() {
		if b.Reserve(context.Background(), 10) == nil {
			got <- 2
		}
	}()
	waitFor(t, func() bool { return b.Stats().Waiting == 2 })
	// 10 would fit now after releasing 10, but FIFO keeps it behind the 50.
	b.Release(10)
	if s := b.Stats(); s.Waiting != 2 || s.Used != 90 {
		t.Fatalf("after releasing 10: %+v, want 2 waiting, 90 used", s)
	}
	// A running query grows ahead of the queue when the bytes are free.
	if !b.Grow(10) || b.Grow(1) {
		t.Fatal("Grow(10) with 10 free must succeed, Grow(1) with none free must fail")
	}
	b.Release(70)
	if a, c := <-got, <-got; a+c != 3 {
		t.Fatalf("granted %d, %d; want both", a, c)
	}
	if s := b.Stats(); s.Used != 90 || s.Waiting != 0 || s.Refused != 3 || s.Waited != 2 || s.Granted != 4 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReserveTimesOut(t *testing.T) {
	b := New(100, 10*time.Millisecond)
	if err := b.Reserve(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	err := b.Reserve(context.Background(), 1)
	if !errors.Is(err, ErrExhausted) || err.Error() != "waited 10ms for 1 bytes: query memory budget exhausted (100 bytes)" {
		t.Fatalf("Reserve on a full budget = %v", err)
	}
	if s := b.Stats(); s.Waiting != 0 || s.Refused != 1 || s.Used != 100 {
		t.Fatalf("stats %+v", s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b2 := New(1, time.Hour)
	b2.TryReserve(1)
	if err := b2.Reserve(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reserve with a cancelled context = %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 30 s")
		}
		time.Sleep(time.Millisecond)
	}
}
