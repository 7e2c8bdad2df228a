-- wrk script: POST a 100-byte body to the URL given (e.g. /log/bench); every answer must be 201.
wrk.method = "POST"
wrk.body = string.rep("x", 100)
wrk.headers["Content-Type"] = "application/octet-stream"
