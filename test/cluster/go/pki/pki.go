// Package pki creates the test cluster's certificate authority, certificates, service-account key
// and kubeconfigs.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Run creates (once) the certificate authority, the serving and client certificates, the
// service-account signing key and the kubeconfigs of every component, in --dir; and the
// aggregation layer's front proxy: its own CA and the client certificate the API server presents
// to extension API servers (added to a PKI made before it without replacing the rest).
func Run(args []string) int {
	fs := flag.NewFlagSet("pki", flag.ExitOnError)
	dir := fs.String("dir", "", "folder for the PKI and kubeconfigs")
	server := fs.String("server", "https://10.250.0.1:16443", "API server URL written into kubeconfigs")
	nodeName := fs.String("node-name", "kw-node", "node name (client certificate system:node:NAME)")
	nodeIP := fs.String("node-ip", "10.250.0.1", "the node's address, where the API server and the kubelet listen")
	_ = fs.Parse(args)
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "pki: --dir is required")
		return 2
	}
	if err := makePKI(*dir, *server, *nodeName, net.ParseIP(*nodeIP)); err != nil {
		fmt.Fprintln(os.Stderr, "pki:", err)
		return 1
	}
	return 0
}

type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func makePKI(dir, server, nodeName string, nodeIP net.IP) error {
	if nodeIP == nil {
		return errors.New("--node-ip is not an IP address")
	}
	if complete(dir, server) {
		return makeFrontProxy(dir)
	}
	// Missing, partial or made for another address: start again.
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := newCert(nil, pkix.Name{CommonName: "kube-worker-test-cluster-ca"}, nil, nil, true)
	if err != nil {
		return err
	}
	if err := writePair(dir, "ca", ca); err != nil {
		return err
	}
	loopback := net.ParseIP("127.0.0.1")
	serving := map[string]struct {
		dns []string
		ips []net.IP
	}{
		// 10.0.0.1 is the `kubernetes` Service, the address pods use.
		"apiserver": {[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}, []net.IP{nodeIP, loopback, net.ParseIP("10.0.0.1")}},
		"kubelet":   {[]string{"localhost", nodeName}, []net.IP{nodeIP, loopback}},
	}
	for name, s := range serving {
		kp, err := newCert(ca, pkix.Name{CommonName: name}, s.dns, s.ips, false)
		if err != nil {
			return err
		}
		if err := writePair(dir, name, kp); err != nil {
			return err
		}
	}
	clients := map[string]pkix.Name{
		"admin":                    {CommonName: "kube-worker-admin", Organization: []string{"system:masters"}},
		"controller-manager":       {CommonName: "system:kube-controller-manager"},
		"scheduler":                {CommonName: "system:kube-scheduler"},
		"node":                     {CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}},
		"kube-proxy":               {CommonName: "system:kube-proxy"}, // bound to system:node-proxier by default
		"apiserver-kubelet-client": {CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}},
	}
	for name, subject := range clients {
		kp, err := newCert(ca, subject, nil, nil, false)
		if err != nil {
			return err
		}
		if err := writePair(dir, name, kp); err != nil {
			return err
		}
		if name == "apiserver-kubelet-client" {
			continue
		}
		if err := writeKubeconfig(dir, name, server); err != nil {
			return err
		}
	}
	// Service-account token signing key (RS256).
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, "sa.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(sa)); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, "sa.pub"), "PUBLIC KEY", pub); err != nil {
		return err
	}
	if err := makeFrontProxy(dir); err != nil {
		return err
	}
	// admin.kubeconfig last: its presence marks a complete PKI.
	return os.Rename(filepath.Join(dir, "admin.kubeconfig.tmp"), filepath.Join(dir, "admin.kubeconfig"))
}

// makeFrontProxy creates, when missing, the front proxy's CA (the API server's
// --requestheader-client-ca-file: extension API servers trust the user named in request headers
// only from a client certificate it signed) and that client certificate, front-proxy-client (its
// --proxy-client-cert-file, the one name in --requestheader-allowed-names). A CA of its own, as
// kubeadm does: the cluster CA's client certificates must not pass for the proxy.
func makeFrontProxy(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "front-proxy-client.key")); err == nil {
		return nil
	}
	ca, err := newCert(nil, pkix.Name{CommonName: "kube-worker-test-front-proxy-ca"}, nil, nil, true)
	if err != nil {
		return err
	}
	client, err := newCert(ca, pkix.Name{CommonName: "front-proxy-client"}, nil, nil, false)
	if err != nil {
		return err
	}
	if err := writePair(dir, "front-proxy-ca", ca); err != nil {
		return err
	}
	if err := writePair(dir, "front-proxy-client.tmp", client); err != nil {
		return err
	}
	// The key last: its presence marks a complete pair.
	if err := os.Rename(filepath.Join(dir, "front-proxy-client.tmp.crt"), filepath.Join(dir, "front-proxy-client.crt")); err != nil {
		return err
	}
	return os.Rename(filepath.Join(dir, "front-proxy-client.tmp.key"), filepath.Join(dir, "front-proxy-client.key"))
}

func newCert(ca *keyPair, subject pkix.Name, dns []string, ips []net.IP, isCA bool) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now,
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		DNSNames:     dns,
		IPAddresses:  ips,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	if isCA {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	parent, signer := tmpl, crypto.Signer(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

func writePair(dir, name string, kp *keyPair) error {
	if err := writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", kp.cert.Raw); err != nil {
		return err
	}
	k, ok := kp.key.(*ecdsa.PrivateKey)
	if !ok {
		return errors.New("unexpected key type")
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, name+".key"), "EC PRIVATE KEY", der)
}

func writeKubeconfig(dir, name, server string) error {
	read := func(f string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, f)) }
	caData, err := read("ca.crt")
	if err != nil {
		return err
	}
	certData, err := read(name + ".crt")
	if err != nil {
		return err
	}
	keyData, err := read(name + ".key")
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kube-worker-test"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: certData, ClientKeyData: keyData}
	cfg.Contexts["kube-worker-test"] = &clientcmdapi.Context{Cluster: "kube-worker-test", AuthInfo: name, Namespace: "default"}
	cfg.CurrentContext = "kube-worker-test"
	path := filepath.Join(dir, name+".kubeconfig")
	if name == "admin" {
		path += ".tmp"
	}
	return clientcmd.WriteToFile(*cfg, path)
}

// complete tells whether dir holds a whole PKI whose kubeconfigs point at server.
func complete(dir, server string) bool {
	for _, f := range []string{"kube-proxy.kubeconfig", "node.kubeconfig"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	cfg, err := clientcmd.LoadFromFile(filepath.Join(dir, "admin.kubeconfig"))
	if err != nil {
		return false
	}
	c := cfg.Clusters["kube-worker-test"]
	return c != nil && c.Server == server
}
