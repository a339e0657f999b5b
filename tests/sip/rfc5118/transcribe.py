#!/usr/bin/env python3
"""Writes the RFC 5118 IPv6 torture messages (section 4) as test vectors,
one file each, named as the RFC names them ("Message Details: ...").

Transcribed from the RFC text: its three-space indentation removed, line
ends CRLF. Two corrections, so that the files frame as the RFC means
them: Content-Length is the length of the body as written (the RFC
prints 268, 181 and 236 for 4.6, 4.8 and 4.9; the bodies it shows, with
CRLF line ends, are 251, 189 and 245 bytes), and the two messages of
4.10, printed
without the blank line that ends a header section, get it. Run from this
directory; LIST says which messages must be relayed and which refused.
"""

M = {}


def msg(head, body=""):
    lines = head.strip("\n").split("\n")
    if body:
        body = "\r\n".join(body.strip("\n").split("\n")) + "\r\n"
        lines = [("Content-Length: %d" % len(body))
                 if l.startswith("Content-Length:") else l for l in lines]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


REG = '''%s SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Max-Forwards: 70
Contact: "Caller" <sip:caller@[2001:db8::1]>
CSeq: 98176 REGISTER
Content-Length: 0'''

# 4.1 Valid SIP Message with an IPv6 Reference
M["ipv6-good"] = msg(REG % "REGISTER sip:[2001:db8::10]")
# 4.2 Invalid SIP Message with an IPv6 Reference (no brackets)
M["ipv6-bad"] = msg(REG % "REGISTER sip:2001:db8::10")

PORT = '''REGISTER %s SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "Caller" <sip:caller@[2001:db8::1]>
Max-Forwards: 70
CSeq: 98176 REGISTER
Content-Length: 0'''

# 4.3 Port Ambiguous in a SIP URI: the port is inside the brackets, so
# it is the last group of the address.
M["port-ambiguous"] = msg(PORT % "sip:[2001:db8::10:5070]")
# 4.4 Port Unambiguous in a SIP URI
M["port-unambiguous"] = msg(PORT % "sip:[2001:db8::10]:5070")

# 4.5 IPv6 Reference Delimiters in Via Header
M["via-received-param-with-delim"] = msg('''BYE sip:[2001:db8::10] SIP/2.0
To: sip:user@example.com;tag=bd76ya
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Max-Forwards: 70
CSeq: 321 BYE
Content-Length: 0''')
M["via-received-param-no-delim"] = msg('''OPTIONS sip:[2001:db8::10] SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3
Call-ID: SSG95523997077@hlau_4100
Max-Forwards: 70
Contact: "Caller" <sip:caller@[2001:db8::9:1]>
CSeq: 921 OPTIONS
Content-Length: 0''')

# 4.6 SIP Request with IPv6 Addresses in SDP Body
M["ipv6-in-sdp"] = msg('''INVITE sip:user@[2001:db8::10] SIP/2.0
To: sip:user@[2001:db8::10]
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::20];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "Caller" <sip:caller@[2001:db8::20]>
CSeq: 8612 INVITE
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: 268''', '''v=0
o=assistant 971731711378798081 0 IN IP6 2001:db8::20
s=Live video feed for today's meeting
c=IN IP6 2001:db8::20
t=3338481189 3370017201
m=audio 6000 RTP/AVP 2
a=rtpmap:2 G726-32/8000
m=video 6024 RTP/AVP 107
a=rtpmap:107 H263-1998/90000''')

# 4.7 Multiple IP Addresses in SIP Headers
M["mult-ip-in-header"] = msg('''BYE sip:user@host.example.net SIP/2.0
Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144
Via: SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200
Call-ID: 997077@lau_4100
Max-Forwards: 70
CSeq: 89187 BYE
To: sip:user@example.net;tag=9817--94
From: sip:user@example.com;tag=81x2
Content-Length: 0''')

# 4.8 Multiple IP Addresses in SDP
M["mult-ip-in-sdp"] = msg('''INVITE sip:user@[2001:db8::10] SIP/2.0
To: sip:user@[2001:db8::10]
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "Caller" <sip:caller@[2001:db8::9:1]>
Max-Forwards: 70
CSeq: 8912 INVITE
Content-Type: application/sdp
Content-Length: 181''', '''v=0
o=bob 280744730 28977631 IN IP4 host.example.com
s=
t=0 0
m=audio 22334 RTP/AVP 0
c=IN IP4 192.0.2.1
m=video 6024 RTP/AVP 107
c=IN IP6 2001:db8::1
a=rtpmap:107 H263-1998/90000''')

# 4.9 IPv4-Mapped IPv6 Addresses
M["ipv4-mapped-ipv6"] = msg('''INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:user@east.example.com;tag=81x2
Via: SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19
Via: SIP/2.0/UDP [::ffff:192.0.2.2];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "T. desk phone" <sip:ted@[::ffff:192.0.2.2]>
CSeq: 612 INVITE
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: 236''', '''v=0
o=assistant 971731711378798081 0 IN IP6 ::ffff:192.0.2.2
s=Call me soon, please!
c=IN IP6 ::ffff:192.0.2.2
t=3338481189 3370017201
m=audio 6000 RTP/AVP 2
a=rtpmap:2 G726-32/8000
m=video 6024 RTP/AVP 107
a=rtpmap:107 H263-1998/90000''')

# 4.10 IPv6 Reference Bug in RFC 3261 ABNF
ABNF = '''OPTIONS sip:user@[%s] SIP/2.0
To: sip:user@[%s]
From: sip:user@example.com;tag=810x2
Via: SIP/2.0/UDP lab1.east.example.com;branch=z9hG4bKas3-111
Call-ID: G9559905523997077@hlau_4100
CSeq: 689 OPTIONS
Max-Forwards: 70
Content-Length: 0'''
M["ipv6-bug-abnf-3-colons"] = msg(ABNF % (("2001:db8:::192.0.2.1",) * 2))
M["ipv6-correct-abnf-2-colons"] = msg(ABNF % (("2001:db8::192.0.2.1",) * 2))

if __name__ == "__main__":
    for name, data in M.items():
        with open(name + ".dat", "wb") as f:
            f.write(data)
    print(len(M), "messages")
