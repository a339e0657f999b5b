/*
 * What the record hand-off does with an alert record from the peer
 * (docs/engine.md), the same rules as OpenSSL 3.0's record layer where
 * the RFCs leave a choice:
 *
 * TLS 1.3 (RFC 8446 section 6): the level is ignored. close_notify closes,
 * user_canceled is ignored (a close_notify should follow), every other
 * description, unknown ones included, is an error alert: the connection
 * ends and nothing is sent back.
 *
 * TLS 1.2 (RFC 5246 section 7.2): a fatal alert ends the connection,
 * close_notify and user_canceled included. A warning close_notify closes;
 * other warnings are ignored ("the connection can continue"), except
 * no_renegotiation, which a server that never asked to renegotiate answers
 * with handshake_failure. A level that is neither warning nor fatal is
 * illegal_parameter.
 *
 * Either version: an alert record must hold exactly one alert (RFC 8446
 * section 5.1; RFC 5246 would allow fragments and coalescing, which
 * OpenSSL does not support either): empty is unexpected_message; another
 * length is decode_error in TLS 1.3 (section 6.2: the length of the
 * message is incorrect) and unexpected_message in TLS 1.2 (OpenSSL's).
 * The caller limits ignored alerts in a row.
 */
#include "tls/tls_int.h"

enum {
	AL_CLOSE_NOTIFY = 0,
	AL_UNEXPECTED_MESSAGE = 10,
	AL_HANDSHAKE_FAILURE = 40,
	AL_ILLEGAL_PARAMETER = 47,
	AL_DECODE_ERROR = 50,
	AL_USER_CANCELED = 90,
	AL_NO_RENEGOTIATION = 100,
};
enum { LVL_WARNING = 1, LVL_FATAL = 2 };

static enum stls_alert_act refuse(struct stls_alert_verdict *v,
				  unsigned char alert, const char *what)
{
	v->alert = alert;
	v->what = what;
	return STLS_ALERT_REFUSE;
}

/*
 * The action for the content p[0..n) of one alert record; v->alert and
 * v->what are set for STLS_ALERT_REFUSE (our fatal alert, and why).
 * Any thread.
 */
enum stls_alert_act stls__rec_alert(bool v12, const unsigned char *p,
				    size_t n, struct stls_alert_verdict *v)
{
	if (n == 0) {
		return refuse(v, AL_UNEXPECTED_MESSAGE, "empty alert record");
	}
	if (n != 2) {
		return refuse(v,
			      v12 ? AL_UNEXPECTED_MESSAGE : AL_DECODE_ERROR,
			      "malformed alert (one alert per record)");
	}
	if (!v12) {
		return p[1] == AL_CLOSE_NOTIFY	  ? STLS_ALERT_CLOSE
		       : p[1] == AL_USER_CANCELED ? STLS_ALERT_IGNORE
						  : STLS_ALERT_FAIL;
	}
	if (p[0] == LVL_FATAL) {
		return STLS_ALERT_FAIL;
	}
	if (p[0] != LVL_WARNING) {
		return refuse(v, AL_ILLEGAL_PARAMETER, "unknown alert level");
	}
	if (p[1] == AL_CLOSE_NOTIFY) {
		return STLS_ALERT_CLOSE;
	}
	if (p[1] == AL_NO_RENEGOTIATION) {
		return refuse(v, AL_HANDSHAKE_FAILURE,
			      "no_renegotiation, but we never asked");
	}
	return STLS_ALERT_IGNORE;
}
