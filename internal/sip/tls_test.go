package sip_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/sip"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "switchboard test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t)
	ts := newServer(t, sip.Config{TLSAddr: "127.0.0.1:0", TLSCert: cert, TLSKey: key})
	if ts.TLSAddr() == "" {
		t.Fatal("no TLS listener")
	}
	ua, _ := sipgo.NewUA(sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	defer ua.Close()
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	host, port := splitAddr(ts.TLSAddr())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	req := sipmsg.NewRequest(sipmsg.OPTIONS, sipmsg.Uri{Scheme: "sip", Host: host, Port: port})
	req.SetTransport("TLS")
	res, err := cli.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("OPTIONS over TLS: %v %v", res, err)
	}

	inv := sipmsg.NewRequest(sipmsg.INVITE, sipmsg.Uri{Scheme: "sip", User: "nobody", Host: host, Port: port})
	inv.SetTransport("TLS")
	inv.AppendHeader(&sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5999}})
	inv.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody([]byte(offer))
	res, err = cli.Do(ctx, inv)
	if err != nil || res.StatusCode != 404 {
		t.Fatalf("INVITE over TLS: %v %v, want 404", res, err)
	}
	if c := res.Contact(); c != nil {
		if tr, _ := c.Address.UriParams.Get("transport"); tr != "tls" {
			t.Errorf("Contact %s lacks transport=tls", c.Value())
		}
	}
}
