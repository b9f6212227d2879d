package chtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

// ZooKeeper is one standalone ZooKeeper (Debian's zookeeper package,
// which zookeeperd depends on) for replicated tables.
type ZooKeeper struct {
	Port   int
	cmd    *exec.Cmd
	exited chan struct{}
	log    *bytes.Buffer
}

// StartZooKeeper starts ZooKeeper in dir on a free loopback port, waits
// until it answers "imok", and stops it when t ends.
func StartZooKeeper(t testing.TB, dir string) *ZooKeeper {
	t.Helper()
	const jar = "/usr/share/java/zookeeper.jar"
	testenv.Files(t, "apt zookeeperd", jar, "/usr/bin/java")
	z := &ZooKeeper{Port: ingesttest.FreePort(t), exited: make(chan struct{}), log: new(bytes.Buffer)}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n", dir, z.Port)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	z.cmd = exec.Command("/usr/bin/java", "-Xmx256m", "-cp", jar+":/usr/share/java/*", "-Dzookeeper.log.dir="+dir,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	z.cmd.Stdout, z.cmd.Stderr = &lockedWriter{w: z.log}, &lockedWriter{w: z.log}
	z.cmd.SysProcAttr = dieWithParent()
	if err := z.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { z.cmd.Wait(); close(z.exited) }()
	t.Cleanup(z.Stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", z.Port)); err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write([]byte("ruok"))
			buf := make([]byte, 4)
			n, _ := c.Read(buf)
			c.Close()
			if string(buf[:n]) == "imok" {
				return z
			}
		}
		select {
		case <-z.exited:
			t.Fatalf("zookeeper exited at start: %s", z.log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("zookeeper did not answer ruok within 60 s: %s", z.log)
		}
	}
}

// Stop ends ZooKeeper.
func (z *ZooKeeper) Stop() {
	select {
	case <-z.exited:
		return
	default:
	}
	z.cmd.Process.Kill()
	<-z.exited
}
