package stream

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestParseStart(t *testing.T) {
	tests := []struct {
		name     string
		frame    string
		want     Start
		wantCode string
	}{
		{"telephony PCM", `{"type":"start","callId":"DS0000000001","chatBotKey":"bot00001","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000,"languageCode":"ko-KR"}`,
			Start{CallID: "DS0000000001", ChatBotKey: "bot00001", Role: RoleEndUser, LanguageCode: "ko-KR", EncodingName: "LINEAR16", SampleRateHertz: 8000,
				Format: Format{Encoding: dialogflowpb.AudioEncoding_AUDIO_ENCODING_LINEAR_16, SampleRateHertz: 8000}, LastFinalEndMs: -1}, ""},
		{"mu-law agent, resumed", `{"type":"start","callId":"C","chatBotKey":"b","role":"HUMAN_AGENT","encoding":"MULAW","sampleRateHertz":8000,"lastFinalEndMs":4200}`,
			Start{CallID: "C", ChatBotKey: "b", Role: RoleHumanAgent, EncodingName: "MULAW", SampleRateHertz: 8000,
				Format: Format{Encoding: dialogflowpb.AudioEncoding_AUDIO_ENCODING_MULAW, SampleRateHertz: 8000}, LastFinalEndMs: 4200}, ""},
		{"not JSON", `start`, Start{}, CodeBadFrame},
		{"two values", `{"type":"start"}{}`, Start{}, CodeBadFrame},
		{"wrong type", `{"type":"audio"}`, Start{}, CodeBadStart},
		{"stop first", `{"type":"stop"}`, Start{}, CodeBadStart},
		{"callId too long", `{"type":"start","callId":"012345678901234567890123456789012345678901234567890","chatBotKey":"b","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000}`, Start{}, CodeBadStart},
		{"no chatBotKey", `{"type":"start","callId":"C","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000}`, Start{}, CodeBadStart},
		{"lower-case role", `{"type":"start","callId":"C","chatBotKey":"b","role":"end_user","encoding":"LINEAR16","sampleRateHertz":8000}`, Start{}, CodeBadRole},
		{"FLAC", `{"type":"start","callId":"C","chatBotKey":"b","role":"END_USER","encoding":"FLAC","sampleRateHertz":8000}`, Start{}, CodeBadEncoding},
		{"G.711 at 16 kHz", `{"type":"start","callId":"C","chatBotKey":"b","role":"END_USER","encoding":"ALAW","sampleRateHertz":16000}`, Start{}, CodeBadSampleRate},
		{"PCM at 11025 Hz", `{"type":"start","callId":"C","chatBotKey":"b","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":11025}`, Start{}, CodeBadSampleRate},
		{"negative lastFinalEndMs", `{"type":"start","callId":"C","chatBotKey":"b","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000,"lastFinalEndMs":-5}`, Start{}, CodeBadStart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStart([]byte(tt.frame))
			var e *Error
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("ParseStart = %v", err)
			case tt.wantCode != "" && (!errors.As(err, &e) || e.Code != tt.wantCode):
				t.Fatalf("ParseStart error = %v, want code %s", err, tt.wantCode)
			case got != tt.want:
				t.Errorf("ParseStart = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestFramesGolden pins every service frame's JSON.
func TestFramesGolden(t *testing.T) {
	frames := []Frame{
		Transcript{Text: "배송 조회 부탁드려요", IsFinal: true, SpeechEndOffsetMs: 61234, SpeechStartOffsetMs: 60000},
		Transcript{Text: "배송", SpeechEndOffsetMs: 60500},
		Suggestion{Kind: "faq", Message: "배송 조회 부탁드려요", MessageName: "projects/p/locations/global/conversations/c/messages/m1",
			Answers: []Answer{{Question: "배송은 언제 되나요?", Text: "화요일과 금요일에 발송됩니다 <&>", Confidence: 0.875, Record: "projects/p/answerRecords/r1"}}},
		Restarted{Reason: "duration", ReplayedMs: 1300},
		errorf(CodeQuota, "Dialogflow's concurrent streaming sessions quota is exhausted"),
		End{},
	}
	var buf bytes.Buffer
	for _, f := range frames {
		buf.Write(Encode(f))
		buf.WriteByte('\n')
	}
	path := filepath.Join("testdata", "frames.golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("frames =\n%s\nwant\n%s", buf.Bytes(), want)
	}
}

func TestFormatArithmetic(t *testing.T) {
	tests := []struct {
		encoding string
		rate     int
		chunk    int
	}{
		{"LINEAR16", 8000, 1600}, {"LINEAR16", 16000, 3200}, {"MULAW", 8000, 800}, {"ALAW", 8000, 800}, {"LINEAR16", 48000, 9600},
	}
	for _, tt := range tests {
		t.Run(tt.encoding, func(t *testing.T) {
			f, err := ParseFormat(tt.encoding, tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			if f.ChunkBytes() != tt.chunk {
				t.Errorf("ChunkBytes = %d, want %d", f.ChunkBytes(), tt.chunk)
			}
			if d := f.Duration(int64(f.ChunkBytes())); d.Milliseconds() != 100 {
				t.Errorf("a chunk lasts %v, want 100ms", d)
			}
			if n := f.Bytes(f.Duration(12345 * int64(f.sampleBytes()))); n != 12345*int64(f.sampleBytes()) {
				t.Errorf("Bytes(Duration(n)) = %d", n)
			}
		})
	}
}

// FuzzParseStart: no client text frame panics the decoder, and whatever it
// accepts is a valid start.
func FuzzParseStart(f *testing.F) {
	f.Add([]byte(`{"type":"start","callId":"DS0000000001","chatBotKey":"bot00001","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000,"languageCode":"ko-KR"}`))
	f.Add([]byte(`{"type":"stop"}`))
	f.Add([]byte(`{"type":"start","lastFinalEndMs":1e30}`))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStart(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.CloseCode() == 0 {
				t.Fatalf("error %v is not a protocol error", err)
			}
			return
		}
		if s.CallID == "" || s.ChatBotKey == "" || s.Format.ChunkBytes() <= 0 || (s.Role != RoleEndUser && s.Role != RoleHumanAgent) {
			t.Fatalf("accepted an invalid start %+v", s)
		}
	})
}
