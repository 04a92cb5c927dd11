package zq.bench;

import picocli.CommandLine;
import zq.formats.ByteSize;

/** Sizes on a benchmark's command line go through zq's one size parser. */
final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override public Long convert(String value) {
        try {
            return ByteSize.parse("size", value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
