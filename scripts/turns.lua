-- wrk script: whole demo calls (greeting, then a classified utterance) on
-- every connection, with a fresh CallId per call.
-- wrk -t2 -c32 -d10s --latency -s scripts/turns.lua http://127.0.0.1:8080
local utterances = {"상담원 연결해 주세요", "택배 배송 조회 좀 해주세요", "지난주에 산 책 환불받고 싶어요", "비밀번호를 바꾸고 싶어요"}
local token = os.getenv("ROUTEBOT_API_TOKEN") or "routebot-dev-token"
local counter, call, turn = 0, 0, 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  wrk.method = "POST"
  wrk.path = "/SCENARIO01"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body
  if turn == 0 then
    call = call + 1
    body = string.format('{"CallId":"W%d-%d","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}', id, call)
  else
    body = string.format('{"CallId":"W%d-%d","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"ScenarioCode":"greeting","ChatMsg":"%s"}',
      id, call, utterances[(call % #utterances) + 1])
  end
  turn = (turn + 1) % 2
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("non-200: " .. status .. " " .. body .. "\n")
  end
end
