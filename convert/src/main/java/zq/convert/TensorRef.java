package zq.convert;

import zq.formats.Checkpoint;
import zq.formats.SafetensorsFile;
import zq.formats.TensorInfo;

/** An input tensor together with the file it is read from. */
record TensorRef(SafetensorsFile file, TensorInfo info) {
    static TensorRef of(Checkpoint c, String name) {
        SafetensorsFile f = c.fileOf(name);
        return new TensorRef(f, f.require(name));
    }

    String name() { return info.name(); }

    /** "file: tensor 'name'", for error messages. */
    String describe() { return file.path() + ": tensor '" + info.name() + "'"; }
}
