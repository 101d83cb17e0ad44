#!/usr/bin/env python3
"""A browser for the sign-in tests, run by metron-agent as METRON_SSO_BROWSER with the address
to open: it follows the redirects with cookies, fills the test provider's login form with
$METRON_TEST_SSO_EMAIL, and ends where the redirects end (the agent's loopback page), which it
prints."""
import http.cookiejar
import os
import re
import sys
import urllib.parse
import urllib.request

opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
answer = opener.open(sys.argv[1], timeout=30)
page = answer.read().decode()
form = re.search(r'action="([^"]+)"', page)
if form:
    action = urllib.parse.urljoin(answer.geturl(), form.group(1))
    data = urllib.parse.urlencode({"login": os.environ["METRON_TEST_SSO_EMAIL"]}).encode()
    try:
        page = opener.open(action, data=data, timeout=30).read().decode()
    except urllib.error.HTTPError as refused:
        page = refused.read().decode()
print(page)
