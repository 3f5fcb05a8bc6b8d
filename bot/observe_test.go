package bot

import (
	"context"
	"testing"
	"time"
)

func TestUserLimiterReportsRefusals(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewUserLimiter(time.Second, 2, 10)
	l.now = func() time.Time { return now }
	refused := 0
	l.OnRefused(func() { refused++ })
	for range 5 {
		l.Allow("u1") // Allowed, Allowed, Notify, Drop, Drop
	}
	if got, want := refused, 3; got != want {
		t.Errorf("refused %d times, want %d", got, want)
	}
}

func TestAskerTravelsInContext(t *testing.T) {
	if _, ok := AskerFrom(context.Background()); ok {
		t.Error("a bare context has an asker")
	}
	want := Asker{Adapter: "telegram", User: "42"}
	got, ok := AskerFrom(WithAsker(context.Background(), want))
	if !ok || got != want {
		t.Errorf("AskerFrom = %+v, %v; want %+v", got, ok, want)
	}
}
