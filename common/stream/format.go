package stream

import (
	"fmt"
	"time"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
)

// Format is a leg's audio as the gateway sends it: raw samples, no header.
type Format struct {
	Encoding        dialogflowpb.AudioEncoding
	SampleRateHertz int32
}

// encodings are the protocol's names; telephony sends 16-bit PCM or G.711.
var encodings = map[string]dialogflowpb.AudioEncoding{
	"LINEAR16": dialogflowpb.AudioEncoding_AUDIO_ENCODING_LINEAR_16,
	"MULAW":    dialogflowpb.AudioEncoding_AUDIO_ENCODING_MULAW,
	"ALAW":     dialogflowpb.AudioEncoding_AUDIO_ENCODING_ALAW,
}

// sampleRates are the rates accepted per encoding: G.711 is 8 kHz by
// definition; PCM at the rates Speech-to-Text's telephony and wideband
// models take, each a whole number of samples per 100 ms.
var sampleRates = map[dialogflowpb.AudioEncoding][]int32{
	dialogflowpb.AudioEncoding_AUDIO_ENCODING_LINEAR_16: {8000, 16000, 24000, 32000, 48000},
	dialogflowpb.AudioEncoding_AUDIO_ENCODING_MULAW:     {8000},
	dialogflowpb.AudioEncoding_AUDIO_ENCODING_ALAW:      {8000},
}

// ParseFormat validates an encoding name and a sample rate.
func ParseFormat(encoding string, rate int) (Format, error) {
	enc, ok := encodings[encoding]
	if !ok {
		return Format{}, fmt.Errorf("encoding %q: want LINEAR16, MULAW or ALAW", encoding)
	}
	for _, r := range sampleRates[enc] {
		if int(r) == rate {
			return Format{Encoding: enc, SampleRateHertz: r}, nil
		}
	}
	return Format{}, fmt.Errorf("sampleRateHertz %d: %s takes %v", rate, encoding, sampleRates[enc])
}

// sampleBytes is the size of one sample.
func (f Format) sampleBytes() int {
	if f.Encoding == dialogflowpb.AudioEncoding_AUDIO_ENCODING_LINEAR_16 {
		return 2
	}
	return 1
}

// BytesPerSecond is the leg's byte rate.
func (f Format) BytesPerSecond() int { return int(f.SampleRateHertz) * f.sampleBytes() }

// ChunkBytes is 100 ms of audio, the size of every audio request (seed 002:
// 1,600 bytes at 8 kHz LINEAR16).
func (f Format) ChunkBytes() int { return f.BytesPerSecond() / 10 }

// Bytes converts a duration of audio to bytes, rounded down to a whole sample.
func (f Format) Bytes(d time.Duration) int64 {
	samples := int64(d) * int64(f.SampleRateHertz) / int64(time.Second)
	return samples * int64(f.sampleBytes())
}

// Duration converts bytes of audio to a duration.
func (f Format) Duration(n int64) time.Duration {
	return time.Duration(n * int64(time.Second) / int64(f.BytesPerSecond()))
}
