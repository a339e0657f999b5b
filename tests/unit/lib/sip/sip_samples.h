/*
 * Realistic SIP messages shared by the SIP unit tests (and written to the
 * fuzz seed corpora). Plain C strings with CRLF line ends.
 */
#ifndef STLS_TEST_SIP_SAMPLES_H
#define STLS_TEST_SIP_SAMPLES_H

#define SDP_BODY                                                     \
	"v=0\r\n"                                                    \
	"o=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\n"      \
	"s=-\r\n"                                                    \
	"c=IN IP4 198.51.100.7\r\n"                                  \
	"t=0 0\r\n"                                                  \
	"m=audio 49170 RTP/AVP 0 8 101\r\n"                          \
	"a=rtpmap:101 telephone-event/8000\r\n"

/* 157 bytes of SDP above. */
#define SAMPLE_INVITE                                                        \
	"INVITE sip:bob@example.com SIP/2.0\r\n"                             \
	"Via: SIP/2.0/TLS 10.0.0.7:49152;branch=z9hG4bK776asdhds;rport\r\n" \
	"Max-Forwards: 70\r\n"                                               \
	"To: Bob <sip:bob@example.com>\r\n"                                  \
	"From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"         \
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"                       \
	"CSeq: 314159 INVITE\r\n"                                            \
	"Contact: <sip:alice@10.0.0.7:49152;transport=tls;ob>\r\n"           \
	"Content-Type: application/sdp\r\n"                                  \
	"Content-Length: 157\r\n"                                            \
	"\r\n" SDP_BODY

#define SAMPLE_REGISTER                                                  \
	"REGISTER sips:example.com SIP/2.0\r\n"                          \
	"Via: SIP/2.0/TLS 10.0.0.7:49153;branch=z9hG4bKnashds7\r\n"      \
	"Max-Forwards: 70\r\n"                                           \
	"To: Alice <sips:alice@example.com>\r\n"                         \
	"From: Alice <sips:alice@example.com>;tag=456248\r\n"            \
	"Call-ID: 843817637684230@998sdasdh09\r\n"                       \
	"CSeq: 1826 REGISTER\r\n"                                        \
	"Supported: path, outbound\r\n"                                  \
	"Contact: <sips:alice@10.0.0.7:49153>;reg-id=1;"                 \
	"+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"\r\n" \
	"Expires: 3600\r\n"                                              \
	"Content-Length: 0\r\n"                                          \
	"\r\n"

#define SAMPLE_BYE                                                       \
	"BYE sip:alice@10.0.0.7:49152;transport=tls SIP/2.0\r\n"         \
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8\r\n"     \
	"Max-Forwards: 70\r\n"                                           \
	"Route: <sip:TOKEN@192.0.2.1:5060;lr;transport=udp>,\r\n"        \
	" <sip:TOKEN@sip.example.net:5061;lr;transport=tls>\r\n"         \
	"From: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"                \
	"To: Alice <sip:alice@example.com>;tag=1928301774\r\n"           \
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"                   \
	"CSeq: 231 BYE\r\n"                                              \
	"Content-Length: 0\r\n"                                          \
	"\r\n"

#define SAMPLE_200                                                        \
	"SIP/2.0 200 OK\r\n"                                              \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;ft=TOKEN\r\n"     \
	"Via: SIP/2.0/TLS 10.0.0.7:49152;branch=z9hG4bK776asdhds;"        \
	"received=203.0.113.5;rport=40000\r\n"                            \
	"To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"                   \
	"From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"      \
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"                    \
	"CSeq: 314159 INVITE\r\n"                                         \
	"Contact: <sip:bob@192.0.2.10>\r\n"                               \
	"Content-Length: 0\r\n"                                           \
	"\r\n"

#define SAMPLE_OPTIONS                                                  \
	"OPTIONS sip:sip.example.net:5061;transport=tls SIP/2.0\r\n"    \
	"Via: SIP/2.0/TLS [2001:db8::7]:5061;branch=z9hG4bKopt1\r\n"    \
	"Max-Forwards: 70\r\n"                                          \
	"To: <sip:sip.example.net>\r\n"                                 \
	"From: <sip:ping@carrier.example.org>;tag=ka1\r\n"              \
	"Call-ID: ping-1@carrier.example.org\r\n"                       \
	"CSeq: 1 OPTIONS\r\n"                                           \
	"Content-Length: 0\r\n"                                         \
	"\r\n"

#endif
