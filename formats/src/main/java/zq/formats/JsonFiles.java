package zq.formats;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;

import zq.formats.text.CompressedFiles;

/**
 * JSON input files (config.json, quantize_config.json, the shard index, tokenizer.json, calibration data) read with
 * errors a user can act on: Jackson's own message spans two lines and ends with "at [Source: REDACTED ...]", which says
 * nothing; this keeps what is wrong and where (line and column).
 */
public final class JsonFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonFiles() {}

    /** The file's JSON tree (null for an empty file); a read or parse error names the file. */
    public static JsonNode read(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": " + describe(e), e);
        }
    }

    /** A JSON read error as one line: "not valid JSON: what (line L, column C)", or the I/O problem. */
    public static String describe(IOException e) {
        if (e instanceof JsonProcessingException j) {
            JsonLocation at = j.getLocation();
            String what = String.valueOf(j.getOriginalMessage()).lines().findFirst().orElse("").strip();
            return "not valid JSON: " + what + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
        }
        return CompressedFiles.describe(e);
    }
}
