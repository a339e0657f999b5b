#!/usr/bin/env bash
# Generates the test PKI into DIR (default: ./certs) with the openssl CLI.
# Idempotent: does nothing when DIR/.done exists. Used by unit and
# integration tests at test time; nothing generated is committed.
#
#   ca.pem/ca.key            root CA "siptls Test CA" (ECDSA P-256)
#   int.pem/int.key          intermediate CA signed by the root
#   other-ca.pem/.key        an unrelated CA (for "untrusted")
#   server.pem/.key          ECDSA leaf: DNS sip.example.test, URI
#                            sip:example.test, IP 127.0.0.1, ::1
#   server-rsa.pem/.key      the same names, RSA-2048
#   server2.pem/.key         DNS other.example.test (SNI tests)
#   server-chain.pem/.key    leaf signed by int, file = leaf + int
#   server-expired.pem/.key  expired server certificate
#   server-enc.key           server.key encrypted with password "secret"
#   wrongname.pem/.key       DNS wrong.example.test only
#   selfsigned.pem/.key      self-signed, DNS sip.example.test
#   client.pem/.key          client alice (URI sip:alice@example.test)
#   client-expired.pem/.key, client-revoked.pem/.key,
#   client-untrusted.pem/.key (signed by other-ca)
#   crl.pem                  root CRL revoking client-revoked
#   crl-empty.pem            root CRL revoking nothing
#   int-crl.pem              intermediate CA's (empty) CRL
#   id-*.pem/.key            RFC 5922 identity cases: uri, dns, cn, wild,
#                            useruri, ip
#   calist.pem               ca.pem + int.pem
set -euo pipefail
DIR=${1:-certs}
STAMP=$(sha256sum "$0" | cut -c1-16)
mkdir -p "$DIR"
cd "$DIR"
# .done holds the checksum of this script: a changed script makes a new PKI.
if [ -f .done ] && [ "$(cat .done)" = "$STAMP" ]; then
	exit 0
fi
rm -rf ./*.pem ./*.key db-* .done

ossl() { openssl "$@" 2>/dev/null; }

mkca() { # name subject [parent]
	local name=$1 subj=$2 parent=${3:-}
	mkdir -p "db-$name/new"
	: >"db-$name/index.txt"
	echo 1000 >"db-$name/serial"
	echo 1000 >"db-$name/crlnumber"
	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key"
	if [ -z "$parent" ]; then
		ossl req -new -x509 -key "$name.key" -subj "$subj" -days 3650 \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-out "$name.pem"
	else
		ossl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
		sign "$parent" "$name.csr" "$name.pem" ca_ext
	fi
	cat >"db-$name/ca.cnf" <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = db-$name
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $name.pem
private_key = $name.key
default_md = sha256
default_days = 825
default_crl_days = 3650
policy = pol
unique_subject = no
copy_extensions = copy
preserve = yes
[ pol ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
userId = optional
emailAddress = optional
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ srv_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
[ cli_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
[ plain_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
CNF
}

sign() { # ca csr out ext [startdate enddate]
	local ca=$1 csr=$2 out=$3 ext=$4
	local dates=()
	if [ $# -ge 6 ]; then dates=(-startdate "$5" -enddate "$6"); fi
	ossl ca -batch -config "db-$ca/ca.cnf" -extensions "$ext" -notext \
		"${dates[@]}" -in "$csr" -out "$out"
}

leaf() { # name ca ext subject san [keytype] [startdate enddate]
	local name=$1 ca=$2 ext=$3 subj=$4 san=$5 kt=${6:-ec}
	if [ "$kt" = rsa ]; then
		ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key"
	else
		ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key"
	fi
	if [ -n "$san" ]; then
		ossl req -new -key "$name.key" -subj "$subj" -addext "subjectAltName=$san" -out "$name.csr"
	else
		ossl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
	fi
	if [ $# -ge 8 ]; then
		sign "$ca" "$name.csr" "$name.pem" "$ext" "$7" "$8"
	else
		sign "$ca" "$name.csr" "$name.pem" "$ext"
	fi
	rm -f "$name.csr"
}

SRV_SAN="DNS:sip.example.test,URI:sip:example.test,IP:127.0.0.1,IP:::1"
mkca ca "/O=siptls test/CN=siptls Test CA"
mkca other-ca "/O=elsewhere/CN=Untrusted Test CA"
mkca int "/O=siptls test/CN=siptls Test Intermediate" ca

leaf server ca srv_ext "/C=DE/ST=Berlin/L=Berlin/O=siptls test/OU=edge/CN=sip.example.test" "$SRV_SAN"
leaf server-rsa ca srv_ext "/O=siptls test/CN=sip.example.test" "$SRV_SAN" rsa
leaf server2 ca srv_ext "/O=siptls test/CN=other.example.test" "DNS:other.example.test"
leaf server-leaf int srv_ext "/O=siptls test/CN=chain.example.test" "DNS:chain.example.test,IP:127.0.0.1"
cat server-leaf.pem int.pem >server-chain.pem
cp server-leaf.key server-chain.key
leaf server-expired ca srv_ext "/O=siptls test/CN=sip.example.test" "$SRV_SAN" ec 20200101000000Z 20210101000000Z
leaf wrongname ca srv_ext "/O=siptls test/CN=wrong.example.test" "DNS:wrong.example.test"
ossl pkey -in server.key -aes256 -passout pass:secret -out server-enc.key

ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out selfsigned.key
ossl req -new -x509 -key selfsigned.key -subj "/CN=sip.example.test" -days 365 \
	-addext "subjectAltName=DNS:sip.example.test" -out selfsigned.pem

leaf client ca cli_ext "/O=siptls test/OU=phones/CN=alice/UID=alice01" "URI:sip:alice@example.test,email:alice@example.test"
leaf client-expired ca cli_ext "/O=siptls test/CN=bob" "URI:sip:bob@example.test" ec 20200101000000Z 20210101000000Z
leaf client-revoked ca cli_ext "/O=siptls test/CN=mallory" "URI:sip:mallory@example.test"
leaf client-untrusted other-ca cli_ext "/O=elsewhere/CN=eve" "URI:sip:eve@example.test"

ossl ca -batch -config db-ca/ca.cnf -gencrl -out crl-empty.pem
ossl ca -batch -config db-ca/ca.cnf -revoke client-revoked.pem
ossl ca -batch -config db-ca/ca.cnf -gencrl -out crl.pem
ossl ca -batch -config db-int/ca.cnf -gencrl -out int-crl.pem

# RFC 5922 identity cases (target domain: example.test).
leaf id-uri ca plain_ext "/CN=ignored.example.test" "URI:sip:example.test"
leaf id-dns ca plain_ext "/CN=ignored.example.test" "DNS:example.test"
leaf id-cn ca plain_ext "/CN=example.test" ""
leaf id-wild ca plain_ext "/CN=wild" "DNS:*.example.test"
leaf id-useruri ca plain_ext "/CN=useruri" "URI:sip:user@example.test"
leaf id-ip ca plain_ext "/CN=ip" "IP:127.0.0.1"

cat ca.pem int.pem >calist.pem
chmod 600 ./*.key
rm -rf db-*/new ./*.csr
echo "$STAMP" >.done
